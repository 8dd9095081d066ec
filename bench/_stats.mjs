/** The middle value (the upper one of the two middles for an even count), as every bench reports it. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
