// Fuzzy name search over golden person names (searchPeople); the standard-folding analyzer
// folds accents, so "Anaïs" and "anais" are one term.
CREATE FULLTEXT INDEX person_names IF NOT EXISTS FOR (p:Person) ON EACH [p.givenName, p.familyName] OPTIONS {indexConfig: {`fulltext.analyzer`: 'standard-folding'}};
