INSERT INTO accounts (email) VALUES ('admin@example.com') ON CONFLICT DO NOTHING;
