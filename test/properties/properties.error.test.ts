import { describe, expect, it } from 'vitest';
import { ownedResourceErrorSuite } from '../owned-resources/error-suite.js';
import { nextYear, PROPERTIES, PROPERTY, propertyInput } from './support.js';

/** The shared refusals of an owned resource (fields, bodies, ids, queries), then the property's own. */
const suite = ownedResourceErrorSuite(PROPERTY);

describe('yearBuilt', () => {
  it('says what the latest accepted year is', async () => {
    const res = await suite.t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: suite.owner.headers,
      payload: propertyInput({ yearBuilt: nextYear() + 1 }),
    });
    // The schema's bound (as the document shows it), beside the other branch of the nullable type.
    expect(res.json().errors).toContainEqual({
      path: '/body/yearBuilt',
      message: `must be <= ${nextYear()}`,
    });
  });
});
