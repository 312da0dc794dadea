import { runMonitorParsingBench } from './monitorParsing.js';
import { monitorStream } from './monitorStream.js';
const t = performance.now();
runMonitorParsingBench(monitorStream(2000));
console.log(((performance.now() - t) / 1000).toFixed(1), 's');
