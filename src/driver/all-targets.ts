// Importing this module registers every built-in target with the driver.
import './targets.js';
import '../backends/wgsl/index.js';
