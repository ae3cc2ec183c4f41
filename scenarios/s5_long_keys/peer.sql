SELECT trader_id, COUNT(*), SUM(quantity), AVG(price), MIN(price), MAX(price) FROM trades GROUP BY trader_id
