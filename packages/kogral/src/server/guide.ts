/**
 * The words an assistant reads over MCP: the usage guide (a resource) and the writing prompts
 * (postmortem, ADR, runbook), each telling it which tools to call in which order.
 */

export const GUIDE = `# Using kogral, the team's knowledge graph

Kogral keeps a team's operational knowledge as markdown nodes linked by relations:
notes and runbooks (note), decisions/ADRs (decision), guidelines, patterns, journals,
and incidents/postmortems/agent runs (execution).

## Before answering an operational question
1. \`search\` with the user's words (semantic by default); narrow with \`node_type\` or \`tags\`.
2. \`get_node\` on the best hits for the full text, relations and backlinks.
3. \`build_context\` on the key node (depth 2) to see related decisions, incidents and runbooks,
   optionally within a time window (\`since\`/\`until\`).
4. \`recent_activity\` (e.g. since "7d", types ["execution"]) for what changed lately.
5. \`get_guidelines\` for the rules that apply to a topic (the org's and the project's).
Cite node ids in your answer.

## Writing
- New knowledge: \`add_note\`, \`add_decision\` (with \`supersedes\` to replace an older one),
  \`add_execution\` for incidents. Search first: do not add a duplicate of an existing node.
- Existing nodes: \`edit_node\` (append, prepend, find_replace, replace_section). Pass \`if_updated\`
  (the node's updated time from get_node) so that an edit made meanwhile is not lost.
- Rename or retype with \`move_node\` (links to the old title are rewritten); \`delete_node\`
  reports nodes that still link to it.
- Connect nodes with \`link\` (relates_to, depends_on, implements, extends, supersedes, explains),
  or write [[Other title]] in a body.

## Several graphs
Every tool takes an optional \`graph\`. \`list_graphs\` shows them; \`switch\` changes the default
for the rest of the session.

## Prompts
\`postmortem\`, \`adr\` and \`runbook\` walk through writing each kind of node.
`;

const searchFirst = (what: string, topic: string) =>
  `First call the kogral \`search\` tool with "${topic}" and read the closest hits with \`get_node\`; if a ${what} on this already exists, improve it with \`edit_node\` instead of adding a new one.`;

export function postmortemPrompt(a: { incident: string; notes?: string | undefined }): string {
  return [
    `Write a blameless postmortem for this incident: ${a.incident}`,
    a.notes ? `\nWhat we know so far:\n${a.notes}` : '',
    '',
    searchFirst('postmortem', a.incident),
    'Also look for earlier incidents with the same cause (search with node_type "execution") and the runbooks involved.',
    '',
    'Then record it with `add_execution`: a dated title ("YYYY-MM-DD <what broke>"), context (impact, who and what was affected),',
    'root_cause (the technical cause and why it was possible, no blame), resolution (what fixed it), action_items (each a concrete, owned follow-up),',
    'started/detected/resolved as ISO 8601 times when known, tags (service, component, "incident").',
    'Finally `link` it to the runbooks and decisions it involves (relation "explains" or "relates_to"), and ask the user about anything you could not find rather than guessing.',
  ].join('\n');
}

export function adrPrompt(a: { decision: string; context?: string | undefined }): string {
  return [
    `Record an architectural decision: ${a.decision}`,
    a.context ? `\nContext given:\n${a.context}` : '',
    '',
    searchFirst('decision', a.decision),
    'Check whether it replaces an earlier decision (search with node_type "decision") and which guidelines apply (`get_guidelines`).',
    '',
    'Then call `add_decision` with a title that states the choice ("Use X for Y"), context (the problem and the forces),',
    'decision (what was chosen, and the options considered with why they lost), consequences (good and bad, and what must now be done),',
    'status "proposed" unless the user says it is accepted, and `supersedes` set to the id of the decision it replaces, if any.',
  ].join('\n');
}

export function runbookPrompt(a: { task: string; service?: string | undefined }): string {
  return [
    `Write a runbook for: ${a.task}${a.service ? ` (service: ${a.service})` : ''}`,
    '',
    searchFirst('runbook', a.task),
    'Read the related incidents (node_type "execution") with `build_context`: their resolutions are the steps that worked.',
    '',
    'Then call `add_note` with tags including "runbook" and a body with these sections:',
    '## When to use (the alert or symptom), ## Before you start (access, tools, risks), ## Steps (numbered, each with the exact command and what to expect),',
    '## Verify (how to know it worked), ## Roll back, ## Escalate (who, when). Link each incident it comes from with `link` (relation "explains").',
  ].join('\n');
}
