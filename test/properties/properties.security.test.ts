import { ownedResourceSecuritySuite } from '../owned-resources/security-suite.js';
import { PROPERTY } from './support.js';

/**
 * OWASP API1/3/5 for properties: the shared owned-resource suite (BOLA, BFLA, mass assignment,
 * data exposure). Property-specific attacks go below it.
 */
ownedResourceSecuritySuite(PROPERTY);
