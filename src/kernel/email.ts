/** The one spelling of an address under which an account, a throttle or a mail cap is kept. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();
