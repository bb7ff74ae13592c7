-- Rollgate store, schema version 1. Never edit: add a new migration instead.
-- Typed columns for what is listed and filtered on; JSON text for specs and controller state.

CREATE TABLE services (
    name       TEXT PRIMARY KEY NOT NULL,
    spec       TEXT NOT NULL,            -- JSON: the service's routing spec
    updated_at INTEGER NOT NULL          -- unix millis
) STRICT;

-- Immutable release snapshots.
CREATE TABLE versions (
    service    TEXT NOT NULL REFERENCES services(name),
    name       TEXT NOT NULL,
    endpoints  TEXT NOT NULL,            -- JSON array of host:port
    labels     TEXT NOT NULL,            -- JSON object
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (service, name)
) STRICT;
CREATE INDEX versions_by_created ON versions(service, created_at, name);
CREATE TRIGGER versions_are_immutable BEFORE UPDATE ON versions
BEGIN SELECT RAISE(ABORT, 'versions are immutable'); END;
CREATE TRIGGER versions_are_kept BEFORE DELETE ON versions
BEGIN SELECT RAISE(ABORT, 'versions are never deleted'); END;

-- Append-only history of which version was stable from when.
CREATE TABLE stable_changes (
    id         INTEGER PRIMARY KEY,
    service    TEXT NOT NULL,
    version    TEXT NOT NULL,
    since      INTEGER NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('controller', 'user')),
    actor_name TEXT,
    reason     TEXT NOT NULL,
    FOREIGN KEY (service, version) REFERENCES versions(service, name)
) STRICT;
CREATE INDEX stable_changes_by_service ON stable_changes(service, id);

CREATE TABLE rollouts (
    name       TEXT PRIMARY KEY NOT NULL,
    service    TEXT NOT NULL REFERENCES services(name),
    spec       TEXT NOT NULL,            -- JSON: canary, stable, strategy, analysis, audience
    state      TEXT NOT NULL,            -- JSON: the controller's state
    phase      TEXT NOT NULL CHECK (phase IN
                   ('pending', 'progressing', 'paused', 'promoted', 'rolled_back', 'aborted')),
    weight_ppm INTEGER NOT NULL CHECK (weight_ppm BETWEEN 0 AND 1000000),
    stable     TEXT NOT NULL,
    canary     TEXT NOT NULL,
    revision   INTEGER NOT NULL CHECK (revision >= 1),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    next_seq   INTEGER NOT NULL CHECK (next_seq >= 0)
) STRICT;
CREATE INDEX rollouts_by_created ON rollouts(created_at, name);
CREATE INDEX rollouts_by_service ON rollouts(service);

-- The audit log: append-only, (rollout, seq) unique so a replayed commit cannot duplicate.
CREATE TABLE decisions (
    id            INTEGER PRIMARY KEY,   -- the log's order across all rollouts
    rollout       TEXT NOT NULL REFERENCES rollouts(name),
    seq           INTEGER NOT NULL CHECK (seq >= 0),
    at            INTEGER NOT NULL,
    actor_kind    TEXT NOT NULL CHECK (actor_kind IN ('controller', 'user')),
    actor_name    TEXT,
    action        TEXT NOT NULL,
    phase_before  TEXT NOT NULL,
    phase_after   TEXT NOT NULL,
    weight_before INTEGER NOT NULL CHECK (weight_before BETWEEN 0 AND 1000000),
    weight_after  INTEGER NOT NULL CHECK (weight_after BETWEEN 0 AND 1000000),
    reason        TEXT NOT NULL,
    details       TEXT NOT NULL,         -- JSON: verdicts, metric values, sample sizes
    UNIQUE (rollout, seq)
) STRICT;
CREATE INDEX decisions_by_rollout ON decisions(rollout, id);
CREATE INDEX decisions_by_time ON decisions(at, id);
CREATE TRIGGER decisions_are_append_only BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER decisions_are_kept BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are never deleted'); END;

CREATE TABLE experiments (
    name       TEXT PRIMARY KEY NOT NULL,
    spec       TEXT NOT NULL,            -- JSON: service, layer, allocation, variants, metrics
    state      TEXT NOT NULL CHECK (state IN ('running', 'stopped')),
    created_at INTEGER NOT NULL,
    stopped_at INTEGER
) STRICT;

-- API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE UNIQUE INDEX tokens_active_name ON tokens(name) WHERE revoked_at IS NULL;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
