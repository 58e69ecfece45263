import { settle } from './settle.js';
import type {
  FamilyRecord,
  ProjectRecord,
  RefreshTokenRecord,
  RelayStore,
  RotateOutcome,
} from './RelayStore.js';

const copyProject = (p: ProjectRecord): ProjectRecord => ({ ...p });
const copyFamily = (f: FamilyRecord): FamilyRecord => ({ ...f, scopes: [...f.scopes] });
const copyToken = (t: RefreshTokenRecord): RefreshTokenRecord => ({ ...t });

/**
 * A {@link RelayStore} kept in process memory: for tests and `--store memory`.
 * Everything is lost when the process exits. Records go in and out as copies.
 */
export class MemoryStore implements RelayStore {
  private readonly projects = new Map<string, ProjectRecord>();
  private readonly families = new Map<string, FamilyRecord>();
  private readonly tokens = new Map<string, RefreshTokenRecord>();
  private secret: string | undefined;
  private closed = false;

  // No method awaits anything, so each check-and-set runs to completion
  // before any other call can start: that is what makes them atomic.

  getProject(id: string): Promise<ProjectRecord | undefined> {
    return settle(() => {
      this.assertOpen();
      const project = this.projects.get(id);
      return project && copyProject(project);
    });
  }

  putProject(project: ProjectRecord): Promise<void> {
    return settle(() => {
      this.assertOpen();
      this.projects.set(project.id, copyProject(project));
    });
  }

  listProjects(): Promise<ProjectRecord[]> {
    return settle(() => {
      this.assertOpen();
      return [...this.projects.values()]
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map(copyProject);
    });
  }

  getOrCreateSecret(create: () => string): Promise<string> {
    return settle(() => {
      this.assertOpen();
      this.secret ??= create();
      return this.secret;
    });
  }

  createFamily(family: FamilyRecord, token: RefreshTokenRecord): Promise<void> {
    return settle(() => {
      this.assertOpen();
      if (token.familyId !== family.id) {
        throw new Error(`Refresh token belongs to family ${token.familyId}, not ${family.id}`);
      }
      // Same failures as the SQLite primary keys, so both stores behave alike.
      if (this.families.has(family.id)) throw new Error(`Family ${family.id} already exists`);
      if (this.tokens.has(token.hash)) throw new Error('Refresh token hash already exists');
      this.families.set(family.id, copyFamily(family));
      this.tokens.set(token.hash, copyToken(token));
    });
  }

  getFamily(id: string): Promise<FamilyRecord | undefined> {
    return settle(() => {
      this.assertOpen();
      const family = this.families.get(id);
      return family && copyFamily(family);
    });
  }

  revokeFamily(id: string, at: number, reason: string): Promise<boolean> {
    return settle(() => {
      this.assertOpen();
      const family = this.families.get(id);
      if (!family || family.revokedAt !== null) return false;
      family.revokedAt = at;
      family.revokedReason = reason;
      return true;
    });
  }

  getRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    return settle(() => {
      this.assertOpen();
      const token = this.tokens.get(hash);
      return token && copyToken(token);
    });
  }

  rotateRefreshToken(
    oldHash: string,
    next: RefreshTokenRecord,
    now: number,
  ): Promise<RotateOutcome> {
    return settle(() => {
      this.assertOpen();
      const old = this.tokens.get(oldHash);
      if (!old || old.expiresAt <= now) return { status: 'invalid' };
      const family = this.families.get(old.familyId);
      if (!family || family.revokedAt !== null) return { status: 'invalid' };
      if (old.rotatedAt !== null) return { status: 'reused', family: copyFamily(family) };
      if (next.familyId !== old.familyId) {
        throw new Error(
          `New refresh token belongs to family ${next.familyId}, not ${old.familyId}`,
        );
      }
      if (this.tokens.has(next.hash)) throw new Error('Refresh token hash already exists');
      old.rotatedAt = now;
      this.tokens.set(next.hash, copyToken(next));
      return { status: 'rotated', family: copyFamily(family) };
    });
  }

  purgeExpired(now: number): Promise<number> {
    return settle(() => {
      this.assertOpen();
      let removed = 0;
      const familiesWithTokens = new Set<string>();
      for (const [hash, token] of this.tokens) {
        if (token.expiresAt <= now) {
          this.tokens.delete(hash);
          removed++;
        } else {
          familiesWithTokens.add(token.familyId);
        }
      }
      for (const id of this.families.keys()) {
        if (!familiesWithTokens.has(id)) {
          this.families.delete(id);
          removed++;
        }
      }
      return removed;
    });
  }

  ping(): Promise<void> {
    return settle(() => {
      this.assertOpen();
    });
  }

  close(): Promise<void> {
    return settle(() => {
      this.closed = true;
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The memory store is closed');
  }
}
