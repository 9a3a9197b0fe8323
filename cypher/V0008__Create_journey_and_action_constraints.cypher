// Journey triggers: versioned journey definitions and their outbox of actions.
CREATE CONSTRAINT journey_version IF NOT EXISTS FOR (j:Journey) REQUIRE (j.id, j.version) IS UNIQUE;
CREATE INDEX journey_active IF NOT EXISTS FOR (j:Journey) ON (j.active);
CREATE CONSTRAINT action_id IF NOT EXISTS FOR (a:Action) REQUIRE a.id IS UNIQUE;
CREATE INDEX action_status_due IF NOT EXISTS FOR (a:Action) ON (a.status, a.dueAt);
CREATE INDEX action_person IF NOT EXISTS FOR (a:Action) ON (a.personId);
CREATE INDEX cart_updated_at IF NOT EXISTS FOR (c:Cart) ON (c.updatedAt);
