/** Deterministic, varied catalog text for the seed (no two runs differ, no network, no fixtures). */

export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

/** What each category's services are about: the words a `q` search finds. */
const TOPICS: Record<string, readonly string[]> = {
  plumbing: [
    'leak repair',
    'drain cleaning',
    'water heater install',
    'pipe replacement',
    'toilet repair',
  ],
  electrical: [
    'panel upgrade',
    'outlet install',
    'lighting repair',
    'ev charger install',
    'rewiring',
  ],
  hvac: ['furnace repair', 'ac tune-up', 'duct cleaning', 'heat pump install', 'thermostat setup'],
  roofing: ['roof leak repair', 'shingle replacement', 'gutter cleaning', 'flat roof coating'],
  cleaning: ['deep cleaning', 'move-out cleaning', 'window cleaning', 'carpet cleaning'],
  landscaping: [
    'lawn mowing',
    'hedge trimming',
    'garden design',
    'sprinkler repair',
    'tree removal',
  ],
  painting: ['interior painting', 'exterior painting', 'cabinet refinishing', 'deck staining'],
  carpentry: ['deck building', 'trim carpentry', 'custom shelving', 'door repair', 'stair repair'],
  pest_control: ['termite treatment', 'rodent removal', 'ant control', 'bed bug treatment'],
  appliance_repair: ['fridge repair', 'washer repair', 'dryer vent cleaning', 'oven repair'],
  handyman: ['furniture assembly', 'tv mounting', 'drywall repair', 'small repairs'],
  moving: ['local moving', 'packing service', 'piano moving', 'junk removal'],
  other: ['home inspection', 'pool maintenance', 'chimney sweep', 'locksmith service'],
};

export const CATEGORIES = Object.keys(TOPICS);

const ADJECTIVES = [
  'Reliable',
  'Same-day',
  'Affordable',
  'Licensed',
  'Emergency',
  'Friendly',
  'Premium',
  'Fast',
  'Certified',
  'Local',
  'Eco-friendly',
  'Family-owned',
  'Insured',
  'Expert',
  'Weekend',
];
const PROMISES = [
  'Free estimates and upfront pricing.',
  'Over 20 years of experience in the area.',
  'Satisfaction guaranteed or we come back for free.',
  'Available evenings and weekends.',
  'All work backed by a one-year warranty.',
  'Background-checked, uniformed technicians.',
  'We clean up after every job.',
  'Senior and veteran discounts available.',
  'Serving homeowners and landlords alike.',
  'Text us a photo for a quick quote.',
];
const DETAILS = [
  'We bring our own tools and materials.',
  'Most jobs are finished within a day.',
  'Flexible scheduling that fits your week.',
  'Emergency calls answered around the clock.',
  'We explain every option before we start.',
  'Transparent invoices with no hidden fees.',
  'Trusted by hundreds of neighbours.',
  'Bilingual team, English and Spanish.',
];

export function serviceText(random: () => number, category: string) {
  const topics = TOPICS[category] ?? TOPICS.other!;
  const topic = pick(random, topics);
  const other = pick(random, topics);
  const adjective = pick(random, ADJECTIVES);
  const title = `${adjective} ${topic}`;
  const description = [
    `${adjective} ${topic} by a ${pick(random, ADJECTIVES).toLowerCase()} team.`,
    `We also handle ${other}.`,
    pick(random, PROMISES),
    pick(random, DETAILS),
  ].join(' ');
  return { title, description };
}

const STREETS = ['Oak', 'Maple', 'Cedar', 'Pine', 'Elm', 'Birch', 'Willow', 'Lake', 'Hill', 'Park'];
const KINDS = ['St', 'Ave', 'Rd', 'Ln', 'Blvd', 'Way', 'Ct', 'Dr'];
const CITIES = [
  ['Springfield', 'IL'],
  ['Portland', 'OR'],
  ['Austin', 'TX'],
  ['Madison', 'WI'],
  ['Raleigh', 'NC'],
  ['Boise', 'ID'],
  ['Denver', 'CO'],
  ['Tampa', 'FL'],
] as const;

export function propertyText(random: () => number, index: number) {
  const [city, region] = pick(random, CITIES);
  return {
    name: `${pick(random, ['Home', 'Cabin', 'Rental', 'Condo', 'Lake house', 'Duplex'])} ${index}`,
    addressLine1: `${1 + Math.floor(random() * 9_999)} ${pick(random, STREETS)} ${pick(random, KINDS)}`,
    city,
    region,
  };
}
