import { randomBytes, timingSafeEqual } from "node:crypto";

/** Nicknames are 2–20 characters: ASCII letters, digits, `_` or `-`. */
export const NICKNAME_PATTERN = /^[A-Za-z0-9_-]{2,20}$/;

/** Why a nickname was refused, as an HTTP status and a message for the user. */
export interface JoinRefusal {
  readonly ok: false;
  readonly statusCode: 400 | 409;
  readonly message: string;
}

/** A granted nickname and the secret token that proves it. */
export interface JoinGrant {
  readonly ok: true;
  readonly nick: string;
  readonly token: string;
}

interface Reservation {
  readonly nick: string;
  readonly token: string;
  /** Last time the nickname was joined, connected or disconnected (ms since epoch). */
  lastSeen: number;
}

/** Options of a {@link NicknameRegistry}. */
export interface NicknameRegistryOptions {
  /** Whether a nickname has an open event stream right now (on any tab of its owner). */
  isConnected: (nick: string) => boolean;
  /**
   * How long a nickname stays reserved for its owner after its last stream closed, so a
   * reconnecting or reloading tab keeps it. @default 30000
   */
  graceMs?: number;
  /** The clock, for tests. @default Date.now */
  now?: () => number;
}

/**
 * Who owns which nickname. The nickname becomes the client's seid, and a seid is public (it
 * is shown in the user list and is the address of a direct message), so it must never be the
 * proof of identity: `join` hands out a random secret token, and only the token opens an
 * event stream under that seid. A second browser asking for a nickname that is in use gets a
 * refusal instead of the first browser's messages.
 */
export class NicknameRegistry {
  readonly #byKey = new Map<string, Reservation>();
  readonly #byToken = new Map<string, Reservation>();
  readonly #isConnected: (nick: string) => boolean;
  readonly #graceMs: number;
  readonly #now: () => number;

  constructor(options: NicknameRegistryOptions) {
    this.#isConnected = options.isConnected;
    this.#graceMs = options.graceMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Grants `nick` (with a new token) when it is valid and free, or again (same token) to the
   * browser that already holds it. Nicknames differing only in case are the same nickname.
   */
  join(nick: unknown, token?: unknown): JoinGrant | JoinRefusal {
    if (typeof nick !== "string" || !NICKNAME_PATTERN.test(nick)) {
      return {
        ok: false,
        statusCode: 400,
        message:
          "nickname must be 2 to 20 characters long and use only letters A-Z, digits, '_' or '-'",
      };
    }
    const key = nick.toLowerCase();
    const held = this.#byKey.get(key);
    if (held !== undefined) {
      if (typeof token === "string" && sameSecret(token, held.token)) {
        held.lastSeen = this.#now();
        return { ok: true, nick: held.nick, token: held.token };
      }
      if (!this.#expired(held)) {
        return {
          ok: false,
          statusCode: 409,
          message: `nickname "${held.nick}" is already taken by someone who is online; choose another one`,
        };
      }
      this.#release(held);
    }
    const reservation: Reservation = {
      nick,
      token: randomBytes(24).toString("base64url"),
      lastSeen: this.#now(),
    };
    this.#byKey.set(key, reservation);
    this.#byToken.set(reservation.token, reservation);
    return { ok: true, nick, token: reservation.token };
  }

  /** The nickname a token proves, or undefined for an unknown or revoked token. */
  nickOf(token: unknown): string | undefined {
    if (typeof token !== "string" || token === "") return undefined;
    const reservation = this.#byToken.get(token);
    if (reservation === undefined) return undefined;
    reservation.lastSeen = this.#now();
    return reservation.nick;
  }

  /**
   * Whether `nick` is held by someone: connected, or gone for less than the grace period
   * (a tab that is reconnecting still gets its direct messages, replayed on reconnect).
   */
  isHeld(nick: string): boolean {
    const reservation = this.#byKey.get(nick.toLowerCase());
    return reservation !== undefined && reservation.nick === nick && !this.#expired(reservation);
  }

  /** Records activity (a stream opened or closed), restarting the grace period. */
  touch(nick: string): void {
    const reservation = this.#byKey.get(nick.toLowerCase());
    if (reservation !== undefined) reservation.lastSeen = this.#now();
  }

  #expired(reservation: Reservation): boolean {
    if (this.#isConnected(reservation.nick)) return false;
    return this.#now() - reservation.lastSeen > this.#graceMs;
  }

  #release(reservation: Reservation): void {
    this.#byKey.delete(reservation.nick.toLowerCase());
    this.#byToken.delete(reservation.token);
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
