import type { PropertyType, ServiceCategory } from '../db/schema.js';

/** The demo accounts share one password, printed by `npm run seed`; never seeded in production. */
export const DEMO_PASSWORD = 'homefront-demo-2026';

export interface DemoProperty {
  name: string;
  addressLine1: string;
  city: string;
  region: string;
  postalCode: string;
  country: string;
  propertyType: PropertyType;
  yearBuilt?: number;
  floorAreaSqft?: number;
}

export interface DemoService {
  title: string;
  description: string;
  category: ServiceCategory;
  pricingModel: 'fixed' | 'hourly' | 'quote';
  priceCents?: number;
  postalCodes: string[];
}

export interface DemoUser {
  email: string;
  fullName: string;
  role: 'homeowner' | 'service_provider';
  properties?: DemoProperty[];
  services?: DemoService[];
}

const home = (
  name: string,
  addressLine1: string,
  city: string,
  region: string,
  postalCode: string,
  propertyType: PropertyType,
  yearBuilt: number,
  floorAreaSqft: number,
): DemoProperty => ({
  name,
  addressLine1,
  city,
  region,
  postalCode,
  country: 'US',
  propertyType,
  yearBuilt,
  floorAreaSqft,
});

export const DEMO_USERS: readonly DemoUser[] = [
  {
    email: 'jane.homeowner@demo.homefront.test',
    fullName: 'Jane Whitaker',
    role: 'homeowner',
    properties: [
      home('Home', '12 Elm Street', 'Portland', 'OR', '97201', 'single_family', 1962, 1850),
      home('Lake cabin', '4 Shoreline Road', 'Bend', 'OR', '97701', 'other', 1978, 900),
    ],
  },
  {
    email: 'omar.homeowner@demo.homefront.test',
    fullName: 'Omar Haddad',
    role: 'homeowner',
    properties: [
      home(
        'Downtown condo',
        '300 Pine Street, Unit 12B',
        'Seattle',
        'WA',
        '98101',
        'condo',
        2008,
        780,
      ),
    ],
  },
  {
    email: 'mei.homeowner@demo.homefront.test',
    fullName: 'Mei Chen',
    role: 'homeowner',
    properties: [
      home('Townhouse', '27 Alder Court', 'Portland', 'OR', '97205', 'townhouse', 1995, 1400),
      home(
        'Rental duplex',
        '918 Division Street',
        'Portland',
        'OR',
        '97202',
        'multi_family',
        1948,
        2300,
      ),
    ],
  },
  {
    email: 'sam.plumber@demo.homefront.test',
    fullName: 'Sam Ortega',
    role: 'service_provider',
    services: [
      {
        title: 'Emergency leak repair',
        description: 'Burst pipes, leaking fixtures and water heaters, seven days a week.',
        category: 'plumbing',
        pricingModel: 'hourly',
        priceCents: 9500,
        postalCodes: ['97201', '97202', '97205'],
      },
      {
        title: 'Water heater installation',
        description: 'Tank and tankless heaters, old unit hauled away.',
        category: 'plumbing',
        pricingModel: 'fixed',
        priceCents: 145000,
        postalCodes: ['97201', '97205'],
      },
    ],
  },
  {
    email: 'priya.electrician@demo.homefront.test',
    fullName: 'Priya Natarajan',
    role: 'service_provider',
    services: [
      {
        title: 'Panel upgrade',
        description: 'Upgrade to a 200 A panel, permits included.',
        category: 'electrical',
        pricingModel: 'quote',
        postalCodes: ['98101', '98102'],
      },
      {
        title: 'Heat pump tune-up',
        description: 'Seasonal check of heat pumps and air handlers.',
        category: 'hvac',
        pricingModel: 'fixed',
        priceCents: 18900,
        postalCodes: ['98101', '97201'],
      },
    ],
  },
  {
    email: 'luis.cleaning@demo.homefront.test',
    fullName: 'Luis Romero',
    role: 'service_provider',
    services: [
      {
        title: 'Deep clean',
        description: 'Kitchen, bathrooms and floors; supplies included.',
        category: 'cleaning',
        pricingModel: 'hourly',
        priceCents: 4500,
        postalCodes: ['97201', '97202', '97205', '97701'],
      },
      {
        title: 'Lawn and garden care',
        description: 'Mowing, edging, hedges and seasonal cleanup.',
        category: 'landscaping',
        pricingModel: 'hourly',
        priceCents: 5500,
        postalCodes: ['97701'],
      },
      {
        title: 'Interior painting',
        description: 'Walls and ceilings, two coats, furniture moved and covered.',
        category: 'painting',
        pricingModel: 'quote',
        postalCodes: ['98101', '97205'],
      },
    ],
  },
];
