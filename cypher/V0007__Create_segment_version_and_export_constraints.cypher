// Segments and audiences (#14): the versions of a segment, and the exports made from them.
CREATE CONSTRAINT segment_version_key IF NOT EXISTS FOR (v:SegmentVersion) REQUIRE (v.segmentId, v.version) IS UNIQUE;
CREATE CONSTRAINT export_id IF NOT EXISTS FOR (e:Export) REQUIRE e.id IS UNIQUE;
CREATE INDEX export_segment_id IF NOT EXISTS FOR (e:Export) ON (e.segmentId);
CREATE INDEX export_batch_export_id IF NOT EXISTS FOR (b:ExportBatch) ON (b.exportId);
CREATE INDEX cart_updated_at IF NOT EXISTS FOR (c:Cart) ON (c.updatedAt);
