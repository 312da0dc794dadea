import { firstEvent, fixture } from '../helpers/fixtures.js';

/** The Azure ML Event Grid fixtures the stream is built from; cloned in memory, never modified. */
export type Schema = 'eventgrid' | 'cloudevents';

/** The first event of `azureml-eventgrid/{schema}-{type}.json` (the docs wrap each in an array). */
export function eventTemplate(schema: Schema, type: string): Record<string, unknown> {
  return firstEvent(`azureml-eventgrid/${schema}-${type}.json`);
}

/** The git run properties Azure ML records (`azureml.git.*`, `mlflow.source.git.*`). */
export function gitRunProperties(): Record<string, string> {
  return fixture<{ properties: Record<string, string> }>('azureml-eventgrid/runproperties-git.json').properties;
}
