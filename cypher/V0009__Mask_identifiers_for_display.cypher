// Identifiers carry their value masked for display (Neo4j Browser's captions): the rule of
// graph/normalize/masking.py, for identifiers stored before the property existed. Batched, so
// it runs on any store size; re-runnable after a failure.
MATCH (i:Identifier) WHERE i.masked IS NULL
CALL (i) {
  SET i.masked = CASE
    WHEN i.type = 'EMAIL' AND i.value CONTAINS '@'
      THEN left(i.value, 1) + '•••@' + last(split(i.value, '@'))
    WHEN i.type = 'PHONE' AND size(i.value) > 6
      THEN left(i.value, 3) + '•••' + right(i.value, 3)
    WHEN size(i.value) > 4 THEN '•••' + right(i.value, 2)
    ELSE '•••'
  END
} IN TRANSACTIONS OF 10000 ROWS;
