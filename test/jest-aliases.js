/** The @app/* aliases, kept identical to tsconfig.json paths. */
module.exports = {
  '^@app/contracts$': '<rootDir>/libs/contracts/src',
  '^@app/config$': '<rootDir>/libs/config/src',
  '^@app/store$': '<rootDir>/libs/store/src',
  '^@app/auth$': '<rootDir>/libs/auth/src',
  '^@app/kafka$': '<rootDir>/libs/kafka/src',
};
