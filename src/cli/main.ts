#!/usr/bin/env node
/** The `multigrain` command: train, finetune-p, whiten, evaluate. */
import { shutdown } from '../engine/index.js';
import { trainCommand } from './train-command.js';
import { evaluateCommand } from './evaluate-command.js';
import { finetunePCommand } from './finetune-p-command.js';
import { whitenCommand } from './whiten-command.js';
import { embedCommand } from './embed-command.js';
import { indexCommand } from './index-command.js';
import { searchCommand } from './search-command.js';
import { classifyCommand } from './classify-command.js';
import { serveCommand } from './serve-command.js';

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  train: trainCommand,
  'finetune-p': finetunePCommand,
  whiten: whitenCommand,
  evaluate: evaluateCommand,
  embed: embedCommand,
  index: indexCommand,
  search: searchCommand,
  classify: classifyCommand,
  serve: serveCommand,
};

const USAGE = `Usage: multigrain <command> [flags]

Commands:
  train        train a MultiGrain network (default data: Fashion-MNIST)
  finetune-p   learn the GeM exponent p at a larger test scale (network frozen)
  whiten       fit PCA whitening of the embedding and fold it into the model
  evaluate     top-1 / top-5 on a validation set, or retrieval: Holidays / Copydays mAP, UKBench N-S
  embed        embed a folder or list of images into embeddings.npy + paths.txt (resumable)
  index        index build OUT (--embeddings DIR | --data-path DIR --checkpoint C) [--kind exact|hnsw]: a search index
  search       the images of an index most similar to a query image
  classify     the top classes of images with their probabilities (IMAGE... --checkpoint C)
  serve        serve the web page (train, classify, search in a browser tab) [--port 8080] [--checkpoint C]

Run 'multigrain <command> --help' for its flags.`;

/** Set once main() has printed its error: later failures of the same run are its echoes. */
let reported = false;
let settled = false;
const label = (): string => `multigrain${process.argv[2] ? ` ${process.argv[2]}` : ''}`;

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`multigrain: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (err) {
    reported = true;
    console.error(`multigrain ${command}: ${(err as Error).message}`);
    if (process.env.MULTIGRAIN_DEBUG) console.error((err as Error).stack);
    return 1;
  } finally {
    await shutdown().catch(() => undefined);
  }
}

// One error, one message, a non-zero exit: work left running in the background when a command
// failed (a readback, a worker) may fail in turn; that echo is not a second error to print.
process.on('unhandledRejection', (err) => {
  if (process.env.MULTIGRAIN_DEBUG) console.error('unhandled rejection:', (err as Error)?.stack ?? err);
  if (reported) return;
  reported = true;
  console.error(`${label()}: ${(err as Error)?.message ?? String(err)}`);
  process.exitCode = 1;
  if (!settled) process.exit(1);
});
// If the event loop runs dry while main() still waits (a promise nobody will settle), Node
// would exit with 13 and no message: say so and fail.
process.on('exit', () => {
  if (settled) return;
  if (!reported) console.error(`${label()}: stopped before finishing (an operation never completed; rerun with MULTIGRAIN_DEBUG=1)`);
  process.exitCode = 1;
});
main().then((code) => {
  settled = true;
  process.exitCode = code;
});
