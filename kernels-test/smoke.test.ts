import { test } from "uvu"; import * as assert from "uvu/assert"; import { shutdown } from "../src/index.js";
test("library entry loads", () => { assert.type(shutdown, "function"); });
test.run();
