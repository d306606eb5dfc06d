import { Type } from 'typebox';
import { PageQueryFields, Strict, Timestamp, Uuid } from '../../lib/schemas.js';

export const RoleName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' });

export const Role = Type.Object({
  name: Type.String(),
  description: Type.String(),
  permissions: Type.Array(Type.String()),
});

export const UserListQuery = Type.Object(
  {
    email: Type.Optional(
      Type.String({ minLength: 1, maxLength: 254, description: 'Email prefix' }),
    ),
    role: Type.Optional(RoleName),
    ...PageQueryFields,
  },
  { additionalProperties: false },
);

export const UserStatusPatch = Strict({ isActive: Type.Boolean() });
export const GrantRoleBody = Strict({ role: RoleName });
export const UserRoleParams = Type.Object(
  { id: Uuid, role: RoleName },
  { additionalProperties: false },
);

export const AuditQuery = Type.Object(
  {
    userId: Type.Optional(Uuid),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z_.]+$' })),
    ...PageQueryFields,
  },
  { additionalProperties: false },
);

export const AuditEvent = Type.Object({
  id: Uuid,
  type: Type.String(),
  actorId: Type.Union([Uuid, Type.Null()]),
  subjectId: Type.Union([Uuid, Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Timestamp,
});
