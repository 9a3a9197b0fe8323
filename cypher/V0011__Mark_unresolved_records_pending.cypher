// Records stored before pending marks existed and held by no person (an ingest killed between
// its write and its resolution) become pending, so the next run resolves them.
MATCH (r:SourceRecord) WHERE r.placeholder IS NULL AND r.forgottenMatch IS NULL AND NOT (r)<-[:HAS_RECORD]-() SET r:Pending;
