import { ownedResourceSecuritySuite } from '../owned-resources/security-suite.js';
import { SERVICE } from './support.js';

/**
 * OWASP API1/3/5 for a provider's services: the shared owned-resource suite (BOLA, BFLA, mass
 * assignment, data exposure, the search document included). Catalog attacks are in
 * catalog.security.test.ts.
 */
ownedResourceSecuritySuite(SERVICE);
