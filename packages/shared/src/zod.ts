/**
 * zod, as every package imports it (`import * as z from '@stratumiops/shared/zod'`), with its
 * compiled object parsers off. By default a zod object compiles a parser (`new Function`) on its
 * first parse, which pays only after many parses of the same schema: a command parses each schema
 * once or twice, and the compiling was ~5-10% of a command's start-up. Servers parse request
 * bodies through the same plain path; the difference there is microseconds per request.
 */
import * as z from 'zod';

z.config({ jitless: true });

export * from 'zod';
