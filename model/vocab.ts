export const UNK = 0;
