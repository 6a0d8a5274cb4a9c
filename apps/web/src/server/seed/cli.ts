import { getDb, disconnectDb } from '../db/client';
import { seedDemo } from './demo';

const outcome = await seedDemo(getDb());
if (outcome.created) {
  console.log('');
  console.log(
    '    Demo seeded. Sign in as the admin (this password is shown only once; change it after signing in):',
  );
  console.log(`      email:    ${outcome.adminEmail}`);
  console.log(`      password: ${outcome.adminPassword}`);
  console.log('');
} else {
  console.log('    existing data kept (demo seeded before)');
}
await disconnectDb();
