-- Reviews and ratings (issue 17): both parties of a confirmed booking review it and read their
-- reviews; the reviewed provider replies; admins hide a review. Reading a provider's public
-- reviews and profile needs only catalog:read, which every role holds.
INSERT INTO "permissions" ("name", "description") VALUES
  ('reviews:read', 'Read the reviews one wrote and the published reviews about one'),
  ('reviews:write', 'Review one''s confirmed bookings and reply to reviews about one'),
  ('reviews:manage', 'Hide any review, with a reason')
ON CONFLICT ("name") DO NOTHING;
--> statement-breakpoint
INSERT INTO "role_permissions" ("role_name", "permission_name") VALUES
  ('homeowner', 'reviews:read'),
  ('homeowner', 'reviews:write'),
  ('service_provider', 'reviews:read'),
  ('service_provider', 'reviews:write'),
  ('admin', 'reviews:read'),
  ('admin', 'reviews:write'),
  ('admin', 'reviews:manage')
ON CONFLICT DO NOTHING;
