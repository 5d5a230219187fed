-- Resends count against the actor's daily budget, counted by this partial index (only
-- `resent` events have entries, so other appends do not write it).
CREATE INDEX events_resent_by_actor ON events (actor_id, at) WHERE kind = 'resent';
