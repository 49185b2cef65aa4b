export { PassportSessionGuard } from './passport-session.guard.js';
