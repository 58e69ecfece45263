'use client';
/**
 * relaycall for React: <RelayProvider>, hooks over the client's store, and two
 * components built only on those hooks. Re-exports relaycall/core.
 */
export { RelayProvider } from './RelayProvider.js';
export type { RelayProviderProps } from './RelayProvider.js';
export type { FetchedToken } from './normalizeToken.js';
export type { RelayContextValue, TokenState, TokenStatus } from './RelayContext.js';
export { MissingProviderError, ReactErrorCodes } from './MissingProviderError.js';
export type { ReactErrorCode } from './MissingProviderError.js';

export { useRelayClient } from './useRelayClient.js';
export type { UseRelayClientResult } from './useRelayClient.js';
export { useToken } from './useToken.js';
export type { UseTokenResult } from './useToken.js';
export { useCall } from './useCall.js';
export type { UseCallOptions, UseCallResult, UseCallState } from './useCall.js';
export type { CallControls } from './useCallControls.js';
export { useCalls } from './useCalls.js';
export { useIncomingCall } from './useIncomingCall.js';
export type { UseIncomingCallResult } from './useIncomingCall.js';
export { useRingtone } from './useRingtone.js';
export type { UseRingtoneOptions, UseRingtoneResult } from './useRingtone.js';
export { useCallList } from './useCallList.js';
export type { UseCallListResult } from './useCallList.js';
export { useAssist } from './useAssist.js';
export type { UseAssistOptions, UseAssistResult } from './useAssist.js';
export { useAssists } from './useAssists.js';
export { useDevices } from './useDevices.js';
export { useScreenShare } from './useScreenShare.js';
export type { UseScreenShareResult } from './useScreenShare.js';
export { useCallMessages } from './useCallMessages.js';
export type { UseCallMessagesResult } from './useCallMessages.js';
export { useCallStats } from './useCallStats.js';
export { useRoomStats } from './useRoomStats.js';
export { useQualityWarnings } from './useQualityWarnings.js';
export type { QualityWarningsFilter } from './useQualityWarnings.js';
export type { UseDevicesResult } from './useDevices.js';
export { useRoom } from './useRoom.js';
export type { UseRoomOptions, UseRoomResult, UseRoomState } from './useRoom.js';
export type { RoomControls } from './useRoomControls.js';
export { useParticipants } from './useParticipants.js';
export { useParticipant } from './useParticipant.js';
export { useRoomInvites } from './useRoomInvites.js';
export { useRoomScreenShare } from './useRoomScreenShare.js';
export type { UseRoomScreenShareResult } from './useRoomScreenShare.js';
export type { UseRoomInvitesResult } from './useRoomInvites.js';
export { RoomProvider } from './RoomContext.js';
export type { RoomProviderProps } from './RoomContext.js';

export { Dialer } from './Dialer.js';
export type { DialerProps } from './Dialer.js';
export { defaultDialerLabels } from './dialerLabels.js';
export type { DialerKey, DialerLabels } from './dialerLabels.js';
export type { EndedCall } from './useOnCallEnded.js';
export { VideoTile } from './VideoTile.js';
export { QualityIndicator, defaultQualityLabels } from './QualityIndicator.js';
export type { QualityIndicatorLabels, QualityIndicatorProps } from './QualityIndicator.js';
export type { VideoTileLabels, VideoTileProps } from './VideoTile.js';
export { RoomGrid } from './RoomGrid.js';
export type { RoomGridProps, RoomTileContext } from './RoomGrid.js';
export { ParticipantTile } from './ParticipantTile.js';
export type { ParticipantTileProps } from './ParticipantTile.js';
export { defaultRoomLabels } from './roomLabels.js';
export type { RoomLabels } from './roomLabels.js';
export { formatDuration } from './formatDuration.js';

export * from '../core/index.js';
