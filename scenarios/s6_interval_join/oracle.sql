SELECT a.trade_id, b.trade_id AS other_id, a.trader_id, a.symbol, b.price - a.price AS price_change
FROM trades a JOIN trades b
  ON a.trader_id = b.trader_id AND a.symbol = b.symbol
 AND a.trade_time BETWEEN b.trade_time - 500 AND b.trade_time + 500
