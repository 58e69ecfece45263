/**
 * A tiny chat beside a call or room, built only from the public hooks: `useCallMessages` for the
 * list and `send`, and the error a refused message is rejected with.
 */
import { useState } from 'react';
import { useCallMessages, type CallMessage } from 'relaycall';

const text = (message: CallMessage) =>
  typeof message.body === 'string' ? message.body : JSON.stringify(message.body);

/** The messages of the call `id` (a call id) or room `id` (its name), and a box to send one. */
export function ChatPanel({ id, label = 'Chat' }: { id: string | null; label?: string }) {
  const { messages, send } = useCallMessages(id);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <section className="story-chat" aria-label={label}>
      <ol className="story-chat__messages" aria-label="Messages">
        {messages.map((message) => (
          <li key={`${message.from}/${message.id}`} data-local={message.local ? '' : undefined}>
            <strong>{message.local ? 'You' : message.resource}</strong>
            {message.to !== null && <small> (to you alone)</small>}: {text(message)}
          </li>
        ))}
      </ol>
      <form
        className="story-chat__form"
        onSubmit={(event) => {
          event.preventDefault();
          if (!draft) return;
          setError(null);
          send(draft).then(
            () => setDraft(''),
            (refused: Error) => setError(refused.message),
          );
        }}
      >
        <input
          aria-label="Message"
          value={draft}
          disabled={id === null}
          placeholder={id === null ? 'In a call, type here' : 'Say something'}
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit" disabled={id === null || !draft}>
          Send
        </button>
      </form>
      {error && (
        <p role="alert" className="story-chat__error">
          {error}
        </p>
      )}
    </section>
  );
}
