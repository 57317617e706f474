// Importing this module defines every ONNX op aic supports, one file per op family.
import './elementwise.js';
import './activation.js';
import './reduce.js';
import './norm.js';
import './nn.js';
import './shape.js';
import './matmul.js';
import './indexing.js';
import './recurrent.js';
import './control.js';
import './quant.js';
import './sequence.js';
import './misc.js';
import './loss.js';
import './attention.js';
import './signal.js';
