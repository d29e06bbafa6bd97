-- The names senders gave processed peer messages (their X-Message-ID, scoped by sender),
-- each mapped to the message's identity in rs_processed (its sender and content): a name
-- reused for other content is refused, a re-delivery under any name is recognised.
CREATE TABLE rs_message_names (
    name text PRIMARY KEY,
    key  text NOT NULL
);
