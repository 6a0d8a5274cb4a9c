import { auditRouter, dashboardRouter, tokenRouter, userRouter } from './routers/admin';
import { bootProfileRouter } from './routers/boot-profile';
import { hostRouter } from './routers/host';
import { imageRouter } from './routers/image';
import { releaseRouter } from './routers/release';
import { signingKeyRouter } from './routers/signing-key';
import { siteRouter } from './routers/site';
import { subnetRouter } from './routers/subnet';
import { createCallerFactory, router } from './trpc';

/** One router per domain, merged here. Every procedure is built with `procedure(permission)`. */
export const appRouter = router({
  dashboard: dashboardRouter,
  site: siteRouter,
  subnet: subnetRouter,
  host: hostRouter,
  bootProfile: bootProfileRouter,
  image: imageRouter,
  release: releaseRouter,
  signingKey: signingKeyRouter,
  audit: auditRouter,
  token: tokenRouter,
  user: userRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
