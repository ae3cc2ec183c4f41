-- @name: nexmark_q20
-- @description: Nexmark Q20: expand bid with auction
-- Bids of category-10 auctions, with the auction's columns: a regular inner join of bids with
-- auctions, then a filter. Needs a regular join.
CREATE STREAM nexmark_q20 AS
SELECT B.auction, B.bidder, B.price, B.channel, B.url, B.dateTime AS bid_dateTime, B.extra AS bid_extra,
       A.itemName, A.description, A.initialBid, A.reserve, A.dateTime AS auction_dateTime, A.expires,
       A.seller, A.category, A.extra AS auction_extra
FROM bid AS B JOIN auction AS A ON B.auction = A.id
WHERE A.category = 10
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'auction.type' = 'file_source',
  'auction.path' = '${NEXMARK:nexmark}/auctions.jsonl',
  'auction.format' = 'json',
  'auction.schema' = 'id BIGINT, itemName STRING, description STRING, initialBid BIGINT, reserve BIGINT, dateTime TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra STRING',
  'auction.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q20.type' = 'file_sink',
  'nexmark_q20.path' = '${OUTPUT:nexmark_q20.jsonl}'
);
