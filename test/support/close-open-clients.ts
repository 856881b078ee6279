// Registered before each test file's own hooks, so it runs before them (jest-circus runs afterAll
// hooks in the order they were declared).
import { closeOpenClients } from './open-clients';

afterAll(closeOpenClients);
