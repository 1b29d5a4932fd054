throw new Error('this file fails to load');
