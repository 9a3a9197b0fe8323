// Probabilistic resolution: versioned match models, and the review queue of possible matches.
CREATE CONSTRAINT match_model_version IF NOT EXISTS FOR (m:MatchModel) REQUIRE m.version IS UNIQUE;
CREATE INDEX match_model_active IF NOT EXISTS FOR (m:MatchModel) ON (m.active);
CREATE CONSTRAINT possible_match_key IF NOT EXISTS FOR (x:PossibleMatch) REQUIRE x.key IS UNIQUE;
CREATE INDEX possible_match_weight IF NOT EXISTS FOR (x:PossibleMatch) ON (x.weight);
