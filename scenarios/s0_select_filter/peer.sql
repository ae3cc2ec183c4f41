SELECT order_id, customer_id, order_date, total_amount FROM orders WHERE total_amount > 100
