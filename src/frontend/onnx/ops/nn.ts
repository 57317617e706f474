// ONNX nn ops: see registry.ts for how a rule is written.
import { defineOnnxOps } from '../registry.js';

defineOnnxOps();
