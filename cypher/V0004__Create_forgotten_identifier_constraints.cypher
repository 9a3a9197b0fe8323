// Right to be forgotten: salted hashes of erased identifiers, and installation settings.
CREATE CONSTRAINT forgotten_identifier_hash IF NOT EXISTS FOR (f:ForgottenIdentifier) REQUIRE f.hash IS UNIQUE;
CREATE CONSTRAINT c360_config_key IF NOT EXISTS FOR (c:C360Config) REQUIRE c.key IS UNIQUE;
