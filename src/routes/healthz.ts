import { ok } from "../http/envelope";

/** No auth, no I/O: the floor every benchmark is compared against. */
export const healthz = () => ok("ok");
