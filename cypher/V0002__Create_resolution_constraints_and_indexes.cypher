// Identity resolution: blocking keys, person aliases (absorbed 360 IDs) and audit look-ups.
CREATE CONSTRAINT blocking_key_key IF NOT EXISTS FOR (b:BlockingKey) REQUIRE b.key IS UNIQUE;
CREATE CONSTRAINT person_alias_id IF NOT EXISTS FOR (a:PersonAlias) REQUIRE a.id IS UNIQUE;
CREATE INDEX person_created_at IF NOT EXISTS FOR (p:Person) ON (p.createdAt);
CREATE INDEX resolution_event_kind IF NOT EXISTS FOR (e:ResolutionEvent) ON (e.kind);
CREATE INDEX resolution_event_person_id IF NOT EXISTS FOR (e:ResolutionEvent) ON (e.personId);
