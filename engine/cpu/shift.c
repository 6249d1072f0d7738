/* (arrives with its instructions) */
