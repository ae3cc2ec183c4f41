-- @name: nexmark_q8
-- @description: Nexmark Q8: monitor new users
-- Persons who registered and opened an auction in the same 10-second tumbling window: a window
-- join of the windowed persons with the windowed sellers. Needs a window join.
CREATE STREAM nexmark_q8 AS
SELECT P.id, P.name, P.starttime
FROM (
  SELECT id, name, _window_start AS starttime, _window_end AS endtime
  FROM person
  GROUP BY id, name
  WINDOW TUMBLING (dateTime, INTERVAL '10' SECOND)
) AS P
JOIN (
  SELECT seller, _window_start AS starttime, _window_end AS endtime
  FROM auction
  GROUP BY seller
  WINDOW TUMBLING (dateTime, INTERVAL '10' SECOND)
) AS A
ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime
WITH (
  'person.type' = 'file_source',
  'person.path' = '${NEXMARK:nexmark}/persons.jsonl',
  'person.format' = 'json',
  'person.schema' = 'id BIGINT, name STRING, emailAddress STRING, creditCard STRING, city STRING, state STRING, dateTime TIMESTAMP, extra STRING',
  'person.event.time.field' = 'dateTime',
  'auction.type' = 'file_source',
  'auction.path' = '${NEXMARK:nexmark}/auctions.jsonl',
  'auction.format' = 'json',
  'auction.schema' = 'id BIGINT, itemName STRING, description STRING, initialBid BIGINT, reserve BIGINT, dateTime TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra STRING',
  'auction.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q8.type' = 'file_sink',
  'nexmark_q8.path' = '${OUTPUT:nexmark_q8.jsonl}'
);
