-- Nexmark q19 in Flink's SQL, from nexmark/nexmark (nexmark-flink/src/main/resources/queries/q19.sql
-- at 6b3646c): the query text as published; only the DDL points at files (sources below,
-- and the sink's 'connector' = 'blackhole' made a Debezium JSON changelog file, for the oracle
-- test: the query updates).
-- Query 19: Auction TOP-10 Price (Not in original suite)
-- What's the top price 10 bids of an auction?
-- Illustrates a TOP-N query.

-- Sources: Nexmark's datagen table and its person/auction/bid views (ddl_gen.sql,
-- ddl_views.sql) pointed at the files of `sluice datagen --kind nexmark`, one table each.
CREATE TABLE person (
  id  BIGINT,
  name  VARCHAR,
  emailAddress  VARCHAR,
  creditCard  VARCHAR,
  city  VARCHAR,
  state  VARCHAR,
  `dateTime`  TIMESTAMP(3),
  extra  VARCHAR,
  WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
) WITH (
  'connector' = 'filesystem',
  'path' = '${NEXMARK:nexmark}/persons.jsonl',
  'format' = 'json'
);

CREATE TABLE auction (
  id  BIGINT,
  itemName  VARCHAR,
  description  VARCHAR,
  initialBid  BIGINT,
  reserve  BIGINT,
  `dateTime`  TIMESTAMP(3),
  expires  TIMESTAMP(3),
  seller  BIGINT,
  category  BIGINT,
  extra  VARCHAR,
  WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
) WITH (
  'connector' = 'filesystem',
  'path' = '${NEXMARK:nexmark}/auctions.jsonl',
  'format' = 'json'
);

CREATE TABLE bid (
  auction  BIGINT,
  bidder  BIGINT,
  price  BIGINT,
  channel  VARCHAR,
  url  VARCHAR,
  `dateTime`  TIMESTAMP(3),
  extra  VARCHAR,
  WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
) WITH (
  'connector' = 'filesystem',
  'path' = '${NEXMARK:nexmark}/bids.jsonl',
  'format' = 'json'
);

CREATE TABLE nexmark_q19 (
    auction  BIGINT,
    bidder  BIGINT,
    price  BIGINT,
    channel  VARCHAR,
    url  VARCHAR,
    `dateTime`  TIMESTAMP(3),
    extra  VARCHAR,
    rank_number  BIGINT
) WITH (
  'connector' = 'filesystem',
  'path' = '${OUTPUT:nexmark_q19.jsonl}',
  'format' = 'debezium-json'
);

INSERT INTO nexmark_q19
SELECT * FROM
(SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number FROM bid)
WHERE rank_number <= 10;
