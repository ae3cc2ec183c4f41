-- @name: nexmark_q3
-- @description: Nexmark Q3: local item suggestion
-- Who sells in category 10 in Oregon, Idaho or California, and which auctions: a regular
-- (unwindowed) inner join of auctions with persons, then a filter. Needs a regular join.
CREATE STREAM nexmark_q3 AS
SELECT P.name, P.city, P.state, A.id
FROM auction AS A JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')
WITH (
  'auction.type' = 'file_source',
  'auction.path' = '${NEXMARK:nexmark}/auctions.jsonl',
  'auction.format' = 'json',
  'auction.schema' = 'id BIGINT, itemName STRING, description STRING, initialBid BIGINT, reserve BIGINT, dateTime TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra STRING',
  'auction.event.time.field' = 'dateTime',
  'person.type' = 'file_source',
  'person.path' = '${NEXMARK:nexmark}/persons.jsonl',
  'person.format' = 'json',
  'person.schema' = 'id BIGINT, name STRING, emailAddress STRING, creditCard STRING, city STRING, state STRING, dateTime TIMESTAMP, extra STRING',
  'person.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q3.type' = 'file_sink',
  'nexmark_q3.path' = '${OUTPUT:nexmark_q3.jsonl}'
);
