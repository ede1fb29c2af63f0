"""A city of halls (docs/city.md): the hall server on PostgreSQL with standbys, NATS fan-out
of committed events, and display gateways that hold the screens' websockets."""
