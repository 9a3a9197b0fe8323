// Nothing stuck: a source record is (:SourceRecord:Pending) from the transaction that stores it
// to the one that resolves it; every run resolves the pending ones first, in key order.
CREATE INDEX pending_record_key IF NOT EXISTS FOR (r:Pending) ON (r.key);
