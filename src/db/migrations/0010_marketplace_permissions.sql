-- The marketplace's permissions (issue 16): homeowners ask for work and accept quotes, providers
-- read the feed and quote, both parties read and move their bookings, admins resolve disputes.
INSERT INTO "permissions" ("name", "description") VALUES
  ('requests:read', 'Read one''s own job requests and the quotes on them'),
  ('requests:write', 'Open, change, cancel one''s own job requests and accept quotes'),
  ('feed:read', 'Read the open job requests one''s services can serve'),
  ('quotes:write', 'Quote on, revise and withdraw quotes for job requests'),
  ('bookings:read', 'Read the bookings one is a party to'),
  ('bookings:write', 'Move the bookings one is a party to through their lifecycle'),
  ('bookings:manage', 'Read every booking and resolve disputes')
ON CONFLICT ("name") DO NOTHING;
--> statement-breakpoint
INSERT INTO "role_permissions" ("role_name", "permission_name") VALUES
  ('homeowner', 'requests:read'),
  ('homeowner', 'requests:write'),
  ('homeowner', 'bookings:read'),
  ('homeowner', 'bookings:write'),
  ('service_provider', 'feed:read'),
  ('service_provider', 'quotes:write'),
  ('service_provider', 'bookings:read'),
  ('service_provider', 'bookings:write'),
  ('admin', 'requests:read'),
  ('admin', 'requests:write'),
  ('admin', 'feed:read'),
  ('admin', 'quotes:write'),
  ('admin', 'bookings:read'),
  ('admin', 'bookings:write'),
  ('admin', 'bookings:manage')
ON CONFLICT DO NOTHING;
