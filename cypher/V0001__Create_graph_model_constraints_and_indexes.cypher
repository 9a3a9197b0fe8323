// Uniqueness constraints and lookup indexes of the graph model in DESIGN.md.
// Every constraint and index is named and IF NOT EXISTS, so re-running is harmless.
CREATE CONSTRAINT source_id IF NOT EXISTS FOR (s:Source) REQUIRE s.id IS UNIQUE;
CREATE CONSTRAINT source_record_key IF NOT EXISTS FOR (r:SourceRecord) REQUIRE r.key IS UNIQUE;
CREATE CONSTRAINT identifier_type_value IF NOT EXISTS FOR (i:Identifier) REQUIRE (i.type, i.value) IS UNIQUE;
CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE;
CREATE CONSTRAINT order_key IF NOT EXISTS FOR (o:Order) REQUIRE o.key IS UNIQUE;
CREATE CONSTRAINT product_sku IF NOT EXISTS FOR (p:Product) REQUIRE p.sku IS UNIQUE;
CREATE CONSTRAINT cart_key IF NOT EXISTS FOR (c:Cart) REQUIRE c.key IS UNIQUE;
CREATE CONSTRAINT case_key IF NOT EXISTS FOR (c:Case) REQUIRE c.key IS UNIQUE;
CREATE CONSTRAINT engagement_key IF NOT EXISTS FOR (e:Engagement) REQUIRE e.key IS UNIQUE;
CREATE CONSTRAINT consent_key IF NOT EXISTS FOR (c:Consent) REQUIRE c.key IS UNIQUE;
CREATE CONSTRAINT segment_id IF NOT EXISTS FOR (s:Segment) REQUIRE s.id IS UNIQUE;
CREATE CONSTRAINT resolution_event_id IF NOT EXISTS FOR (e:ResolutionEvent) REQUIRE e.id IS UNIQUE;
CREATE INDEX source_record_source_id IF NOT EXISTS FOR (r:SourceRecord) ON (r.sourceId);
CREATE INDEX source_record_updated_at IF NOT EXISTS FOR (r:SourceRecord) ON (r.updatedAt);
CREATE INDEX identifier_value IF NOT EXISTS FOR (i:Identifier) ON (i.value);
CREATE INDEX person_family_name IF NOT EXISTS FOR (p:Person) ON (p.familyName);
CREATE INDEX order_placed_at IF NOT EXISTS FOR (o:Order) ON (o.placedAt);
CREATE INDEX case_opened_at IF NOT EXISTS FOR (c:Case) ON (c.openedAt);
CREATE INDEX engagement_at IF NOT EXISTS FOR (e:Engagement) ON (e.at);
CREATE INDEX consent_channel_purpose IF NOT EXISTS FOR (c:Consent) ON (c.channel, c.purpose);
CREATE INDEX resolution_event_at IF NOT EXISTS FOR (e:ResolutionEvent) ON (e.at);
