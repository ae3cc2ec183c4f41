SELECT trader_id, symbol, trade_time - trade_time % 60000, COUNT(*), SUM(quantity), AVG(price)
FROM trades GROUP BY trader_id, symbol, trade_time - trade_time % 60000
