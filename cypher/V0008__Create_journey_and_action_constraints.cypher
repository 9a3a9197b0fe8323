// Journeys: versioned trigger rules and their outbox of actions (claimed by runners by status and due time).
CREATE CONSTRAINT journey_id IF NOT EXISTS FOR (j:Journey) REQUIRE j.id IS UNIQUE;
CREATE INDEX journey_active IF NOT EXISTS FOR (j:Journey) ON (j.active);
CREATE CONSTRAINT action_id IF NOT EXISTS FOR (a:Action) REQUIRE a.id IS UNIQUE;
CREATE INDEX action_status_due_at IF NOT EXISTS FOR (a:Action) ON (a.status, a.dueAt);
CREATE INDEX action_status_lease IF NOT EXISTS FOR (a:Action) ON (a.status, a.leaseUntil);
CREATE INDEX action_person IF NOT EXISTS FOR (a:Action) ON (a.personId);
