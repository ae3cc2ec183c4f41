SELECT trader_id, symbol, trade_time - trade_time % 60000 AS minute_start, COUNT(*), SUM(quantity), AVG(price)
FROM trades GROUP BY trader_id, symbol, minute_start
